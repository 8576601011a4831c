"""The year's records: dialogues (talks) with their actions, goals, milestones, and the views
made of them (App Home's overview, HR's coverage, the export)."""
