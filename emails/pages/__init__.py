"""The staff's web pages (compose, log, message) and the public unsubscribe page: thin views over the services."""
