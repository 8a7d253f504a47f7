"""Pure voting rules: dot-vote tallies, the shortlist, the Burgerraad result, receipts."""
