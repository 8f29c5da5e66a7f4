"""The HubSpot destination: leads upserted as CRM contacts through the v3 batch API."""
