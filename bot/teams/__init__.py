"""Everything that speaks Microsoft Teams (the Microsoft 365 Agents SDK): the bot's assembly
(`app`), who may call `/api/messages` and the bot's own token (`auth`), the edge (`edge`), the
Bot Connector (`connector`), sending nudges and notices (`sender`), and the app package."""
