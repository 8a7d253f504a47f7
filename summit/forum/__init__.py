"""The Burgerforum: public proposal pages, residents' reactions with moderation, workshops that
rework proposals for the Burgerraad, and the opinion map's wiring (docs/forum.md)."""
