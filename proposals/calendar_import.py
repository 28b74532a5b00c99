"""Occasions read from the bodies' iCalendar feeds."""
