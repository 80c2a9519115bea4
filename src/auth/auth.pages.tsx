import { h, type SafeHtml } from '../console/html.js';
import { Layout, Notice } from '../console/layout.js';

export function LoginPage(props: { csrf: string; next: string; email?: string; error?: string }): SafeHtml {
  return (
    <Layout title="Sign in" actor={null}>
      <div class="login panel">
        <h1>Sign in to Keepwarm</h1>
        {props.error ? <Notice kind="error">{props.error}</Notice> : null}
        <form method="post" action="/login">
          <input type="hidden" name="_csrf" value={props.csrf} />
          <input type="hidden" name="next" value={props.next} />
          <label for="email">Email</label>
          <input id="email" name="email" type="email" autocomplete="username" required autofocus value={props.email ?? ''} />
          <label for="password">Password</label>
          <input id="password" name="password" type="password" autocomplete="current-password" required />
          <div class="actions">
            <button type="submit">Sign in</button>
          </div>
        </form>
      </div>
    </Layout>
  );
}
