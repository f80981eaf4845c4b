// The console's entry: styles, theme, and the app.
import { render } from 'preact';
import './styles.css';
import { App } from './app.js';
import { applyTheme, initialTheme } from './theme.js';

applyTheme(initialTheme());
render(<App />, document.getElementById('app')!);
