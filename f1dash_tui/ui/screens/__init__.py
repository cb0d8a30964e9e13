"""The dashboard's screens: live, lap compare, best laps, events, help, picker."""
