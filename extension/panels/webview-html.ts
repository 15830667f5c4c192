/**
 * The one place webview HTML is made: a strict CSP with a fresh nonce, the bundle's script and
 * stylesheet through asWebviewUri, and localResourceRoots limited to the bundle folder.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

/** dist/webview: where esbuild writes <name>.js and <name>.css. */
export function bundleRoot(extensionUri: vscode.Uri): vscode.Uri {
  return vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
}

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions & vscode.WebviewPanelOptions {
  return { enableScripts: true, localResourceRoots: [bundleRoot(extensionUri)], retainContextWhenHidden: false };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function webviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, name: 'conflict' | 'dashboard' | 'query', title: string): string {
  const nonce = randomBytes(16).toString('base64');
  const root = bundleRoot(extensionUri);
  const script = webview.asWebviewUri(vscode.Uri.joinPath(root, `${name}.js`));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(root, `${name}.css`));
  const csp = ["default-src 'none'", `img-src ${webview.cspSource} data:`, `style-src ${webview.cspSource}`, `script-src 'nonce-${nonce}'`].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style.toString()}">
<title>${escapeHtml(title)}</title>
</head>
<body data-webview="${name}">
<div id="app"></div>
<script nonce="${nonce}" src="${script.toString()}"></script>
</body>
</html>`;
}
