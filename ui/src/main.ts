import '@event-calendar/core/index.css';
import './styles.css';
import { selectTransport } from './transport';
import { VetdeskApp } from './ui/app';

const root = document.getElementById('app');
if (root) void new VetdeskApp(root, selectTransport()).start();
