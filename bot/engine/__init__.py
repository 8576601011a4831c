"""The nudge engine: the planner decides which nudges should exist, the outbox keeps each one
once, the dispatcher sends what is due in each person's working time, through a platform's
sender. Notices (messages a record owes) take the same road. No chat platform in here."""
