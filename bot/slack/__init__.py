"""Everything that speaks Slack's API: the Bolt app's assembly, the edge in front of it, the
Web API gateway, the nudge sender, Slack's pace and profile look-ups."""
