DROP TABLE disabled_plugins;
