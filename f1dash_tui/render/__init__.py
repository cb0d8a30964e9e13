"""Pure drawing functions from (data, size) to text renderables. No Textual here."""
