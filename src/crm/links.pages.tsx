import { assetUrl } from '../console/assets.js';
import { h, type SafeHtml } from '../console/html.js';
import { Notice } from '../console/layout.js';

/** A tracked link that cannot be followed: no redirect, no console navigation, no script. */
export function BadLinkPage(props: { expired: boolean }): SafeHtml {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex" />
        <title>Link not valid</title>
        <link rel="stylesheet" href={assetUrl('console.css')} />
      </head>
      <body>
        <main id="main">
          <div class="login panel">
            <h1>{props.expired ? 'This link has expired' : 'This link is not valid'}</h1>
            <Notice kind="error">
              {props.expired
                ? 'Links in our messages work for 30 days. Reply to the message you received and we will send a fresh one.'
                : 'The link is incomplete or was changed. Open it again from the message you received.'}
            </Notice>
          </div>
        </main>
      </body>
    </html>
  );
}
