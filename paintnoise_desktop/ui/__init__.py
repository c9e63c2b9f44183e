"""The Qt side: main window, canvas, prompt bar, panels, and the bridge to the engine thread.

Nothing here imports torch; the engine runs in its own thread behind `EngineBridge`.
"""
