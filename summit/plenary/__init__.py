"""The plenary screen of the hall: themes, the programme, prioritisation and the Burgerraad."""
