"""The chat edge: one package per platform, each of thin listeners that parse a payload, call
one domain function, render the answer in the platform's idiom and respond."""
