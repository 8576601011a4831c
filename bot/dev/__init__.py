"""Not production code: the Slack stand-in (a real HTTP server answering as Slack does, with
Slack's refusals) and the offline demo. Only the demo and the tests import this package."""
