"""The compiled hot path. Users import from the ``barter`` packages, never from here."""
