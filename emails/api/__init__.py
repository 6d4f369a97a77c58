"""The REST API of the email log (DRF viewsets on routers), and the SNS webhook."""
