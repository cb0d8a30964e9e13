"""The Textual application: screens, widgets, bindings and pollers."""
