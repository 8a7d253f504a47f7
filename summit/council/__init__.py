"""Prioritisation, proposals, the Burgerraad vote and the Burgerbesluit."""
