#!/usr/bin/env bash
# Install the PaintNoise menu entry and icon for the current user (no root needed).
# Run it after `pip install -e .`, with the virtual environment active, so that the menu
# entry starts the `paintnoise` of that environment.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
resources="$here/../../resources"
data="${XDG_DATA_HOME:-$HOME/.local/share}"

command -v paintnoise >/dev/null || {
    echo "paintnoise is not on PATH: activate the virtual environment you installed it in." >&2
    exit 1
}
executable="$(command -v paintnoise)"

install -D -m 644 "$resources/icon.svg" "$data/icons/hicolor/scalable/apps/paintnoise-desktop.svg"
install -D -m 644 "$resources/icon.png" "$data/icons/hicolor/256x256/apps/paintnoise-desktop.png"
mkdir -p "$data/applications"
sed "s|^Exec=paintnoise |Exec=$executable |" "$here/paintnoise-desktop.desktop" \
    > "$data/applications/paintnoise-desktop.desktop"
chmod 644 "$data/applications/paintnoise-desktop.desktop"

# Refresh the caches where the tools exist; menus pick the entry up without them, later.
command -v update-desktop-database >/dev/null && update-desktop-database "$data/applications" || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t "$data/icons/hicolor" || true
echo "Installed: $data/applications/paintnoise-desktop.desktop (runs $executable)"
