// Empty translation unit that anchors the shared precompiled header (cmake/Targets.cmake).
