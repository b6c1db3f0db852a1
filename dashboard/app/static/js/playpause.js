// The Play/Pause button of the date controls: a Streamlit v2 component drawn on the page
// itself (not in a frame), so that its click can read the map's frame.
//
// Pause says which date the map shows at the moment of the click (data-cm-as-of, written on
// the map's container by L.ConflictMap.ViewDate once the layers of that date are drawn):
// the server's latest step may be one or more steps ahead of the map (its answer still on
// its way, or the browser busy drawing), and the view must stop at what the user saw.
// Each click says what it asks for ("play" or "pause"), so a second click made before the
// answer arrived asks for the same thing again instead of undoing the first.
//
// data: {playing: boolean, mapFrameTitle: string}
// trigger "press": {action: "play" | "pause", shown: "YYYY-MM-DD" | null}

function shownDate(frameTitle) {
  for (const frame of document.querySelectorAll('iframe')) {
    if (frame.title !== frameTitle) continue;
    try {
      const box = frame.contentDocument && frame.contentDocument.querySelector('[data-cm-as-of]');
      if (box) return box.getAttribute('data-cm-as-of');
    } catch {
      return null; // a frame of another origin: nothing to read
    }
  }
  return null;
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  const spec = data || {};
  let button = parentElement.querySelector('button.cm-play');
  if (!button) {
    button = document.createElement('button');
    button.type = 'button';
    button.className = 'cm-play';
    parentElement.appendChild(button);
  }
  const playing = !!spec.playing;
  button.textContent = playing ? 'Pause' : 'Play';
  button.classList.toggle('cm-playing', playing);
  button.onclick = function () {
    setTriggerValue('press', {
      action: playing ? 'pause' : 'play',
      shown: playing ? shownDate(String(spec.mapFrameTitle || '')) : null,
    });
  };
}
