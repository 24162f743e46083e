"""The HTTP face of the product: ``create_app(settings)`` builds it."""
