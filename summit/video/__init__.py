"""Online video tables (videotafels): the control side of the media plane."""
