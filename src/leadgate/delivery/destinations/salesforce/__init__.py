"""The Salesforce destination: Leads upserted by an external-id field holding the LeadID (see `transport`)."""
