"""Everything that speaks Microsoft Teams' side: the app package (the bot's endpoint, sender
and cards come next)."""
