"""The Marketo destination: leads upserted with the REST API's Sync Leads, optionally added to a program."""
