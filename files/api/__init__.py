"""The REST API of stored files (a DRF viewset on a router)."""
