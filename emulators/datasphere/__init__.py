"""A local SAP Datasphere: OAuth, catalog OData, EDMX and repository API served from a catalog file."""
