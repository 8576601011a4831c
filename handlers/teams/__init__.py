"""Teams' chat edge, in the Slack edge's convention:

- `ids.py`: every verb and data key a card carries back, and their encoders (nobody else
  spells one; a value once sent never changes).
- `parse.py`: activities and card data → typed values for the domain (pure; `Invalid` for a
  form's problems, record ids 0 when unreadable). `handlers.payload` holds what both
  platforms read the same way (a day, a record id).
- `cards/`: pure Adaptive Card builders from plain data; `cards/kit.py` is the one path for
  people's text (literal text runs, never Markdown) and splits long messages.
- `listeners.py` routes each activity to its feature: `commands.py` (typed commands and the
  welcome), `dialogs.py` (`task/fetch`, `task/submit`, the picker's search), `actions.py`
  (`Action.Execute` buttons); `notify.py` sends or redraws a record's notices.

Each listener: parse → one domain call → card → answer, with the sender looked up by
`bot.teams.app.TeamsBot` (the domain sees person keys, never an Entra id).
"""
