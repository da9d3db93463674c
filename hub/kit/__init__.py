"""The adapter kit: what ``simpul mapping test`` and ``simpul adapters list|show|new`` run.

* ``propose``: a source block (adapter config + mapping) proposed from a raw sample;
* ``config_file``: a node config from TOML or YAML;
* ``mapping_test``: a raw sample read by the adapter, mapped and validated as the hub would;
* ``adapters_cmd``: installed adapters and their config reference;
* ``scaffold`` (with ``templates``, ``templates_tests``): a new adapter package whose tests pass as generated.

The contract test kit for adapter authors is ``hub.testing``. May import ``hub.completeness``, the
adapter framework and every layer below it; not its siblings (feeds, levels, admin) nor anything above."""
