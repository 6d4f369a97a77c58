"""The embedded default's stand-in for Amazon SES, for development and demos only: nothing else imports it.

SES_EMULATED=true (which bin/dev sets) makes EMAIL_BACKEND the emulated
backend: django-ses talking to moto on a loopback port, reporting a new
production account's quota, and answering SES's mailbox simulator addresses
with the events real SES would publish.
"""
