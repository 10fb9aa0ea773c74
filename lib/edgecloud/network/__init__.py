"""The path between client and cloud: the analytic model (model.py), and the emulation that checks it
(proxy.py, a delaying TCP proxy; netns.py, kernel-shaped links; netclient.py, the client; emulation.py)."""
