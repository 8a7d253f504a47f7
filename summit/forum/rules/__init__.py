"""Pure rules of the Burgerforum: reactions and their moderation, workshops, the opinion map."""
