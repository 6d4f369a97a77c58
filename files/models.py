"""Stored files arrive with the files capability (issue 3); nothing is modelled yet."""
