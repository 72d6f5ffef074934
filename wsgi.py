"""The WSGI entry point for gunicorn: ``gunicorn wsgi:app``."""

from ratingsvc import create_app

app = create_app()
