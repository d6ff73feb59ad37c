# Copyright (c) HoneyHive
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The strict local AWS: behaviours the AWS proxy adds to moto so that the local emulator
answers as AWS does where it matters (see docs/emulator.md)."""
