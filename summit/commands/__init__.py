"""``summit`` sub-commands of the platform's parts; each module has ``register(main)``."""
