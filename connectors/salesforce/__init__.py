"""Salesforce: the connector (simple-salesforce), the local sandbox server and the org metadata they share."""
