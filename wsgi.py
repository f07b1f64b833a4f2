"""WSGI entry point: the only place an application is built at import."""

from app import create_app

app = create_app()
