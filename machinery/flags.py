"""flags.py -- machinery a reader may skip: the range of each number on the command line.

Each function here is an argparse `type=`: argparse calls it on the flag's text, so that a value
out of range stops the command before it reads a file, naming the flag and the range:

    distill.py logits: error: argument --batch-size: must be a positive integer, got -4

and exits with status 2.  A flag's default is not a string, so argparse never passes it through
these: the defaults are the numbers the chapters give.  Nothing here is part of Tang et al.'s
method; it imports nothing of ours.
"""
import argparse
import math


def integer(minimum):
    """The type of an integer flag that must be >= minimum (1: a size or a count)."""
    words = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"

    def check(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"must be {words}, got {text}")
        return value
    return check


def number(words, within):
    """The type of a float flag for which within(value) holds, said in words; never nan or inf."""
    def check(text):
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and within(value)):
            raise argparse.ArgumentTypeError(f"must be {words}, got {text}")
        return value
    return check


positive_int = integer(1)           # sizes and counts: batches, epochs, units, tries
natural = integer(0)                # --limit (0: all), --errors, --seed
positive = number("a positive number", lambda x: x > 0)            # learning rates, temperature
non_negative = number("a number >= 0", lambda x: x >= 0)            # the weight decay
probability = number("a probability between 0 and 1", lambda x: 0 <= x <= 1)   # rates, alpha
