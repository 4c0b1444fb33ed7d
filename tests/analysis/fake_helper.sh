#!/bin/sh
# Stands in for the thinlto helper in analysis tests: never run.
exit 1
