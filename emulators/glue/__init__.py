"""The local Glue: moto's server-mode application, without the emulator's own per-request overhead."""
