// ESLint for the map's own scripts, dashboard/app/static/js/*.js (tests/lint_js.sh runs it).
// vendor/ there holds copies of Leaflet and its plugins, which are not ours to lint.
import js from '@eslint/js';
import globals from 'globals';

const OURS = 'dashboard/app/static/js/*.js';

export default [
  { ignores: ['**/vendor/**', 'node_modules/**', 'build/**', '.venv/**'] },
  { files: [OURS], ...js.configs.recommended },
  {
    // L.ConflictMap's modules (core.js, points.js, ...): classic scripts, loaded one after
    // the other by the map page, each one function that adds to the global Leaflet object.
    files: [OURS],
    languageOptions: {
      // What the browsers Streamlit supports run; the scripts are not transpiled.
      ecmaVersion: 2020,
      sourceType: 'script',
      globals: { ...globals.browser, L: 'readonly' },
    },
    rules: {
      // A script's top-level names would be globals of the whole page (and of every other
      // script on it): everything goes through L.ConflictMap instead.
      'no-implicit-globals': 'error',
      // Strict mode inside each module's function, never for the page as a whole.
      strict: ['error', 'function'],
      // `var` is scoped to the whole function whatever the line it is declared on, so an
      // inner name that hides an outer one is a trap even when declared after it.
      'no-shadow': ['error', { hoist: 'all' }],
      // A `var` read before its declaration is undefined, silently; functions may be
      // called before they are defined (they are hoisted whole).
      'no-use-before-define': ['error', { functions: false }],
      eqeqeq: 'error',
      // Data reaches the page as text only (textContent, createTextNode): no HTML sinks.
      'no-restricted-properties': [
        'error',
        { property: 'innerHTML', message: 'Insert text with textContent (see el() in core.js).' },
        { property: 'outerHTML', message: 'Insert text with textContent (see el() in core.js).' },
        {
          property: 'insertAdjacentHTML',
          message: 'Insert text with textContent (see el() in core.js).',
        },
        { object: 'document', property: 'write', message: 'Build nodes instead.' },
      ],
      'no-eval': 'error',
      'no-implied-eval': 'error',
      'no-new-func': 'error',
    },
  },
  {
    // The Play/Pause button: a Streamlit component, which Streamlit loads as an ES module.
    files: ['dashboard/app/static/js/playpause.js'],
    languageOptions: { sourceType: 'module' },
  },
];
