"""The organiser's dashboard, participants and their links, and the moderator's overview
of the tables."""
