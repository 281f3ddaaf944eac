// Small browser helpers for Portal pages.
window.portal = {
  copyText: async (text) => { await navigator.clipboard.writeText(text); return true; },
  // Remembers the theme for a year; the server reads it when it renders the next page (CircuitClient.ThemeCookie).
  setTheme: (mode) => {
    document.cookie = 'portal-theme=' + encodeURIComponent(mode) + '; path=/; max-age=31536000; samesite=lax';
  },
  // Brings the first field marked invalid inside `container` into view (a long dialog is scrolled to its buttons).
  scrollToFirstError: (container) => {
    const root = document.querySelector(container);
    const field = root && root.querySelector('.mud-input-error, [aria-invalid="true"], .mud-alert-filled-error, .mud-alert-text-error');
    if (!field) return false;
    field.scrollIntoView({ block: 'center', behavior: 'smooth' });
    const input = field.querySelector('input, textarea');
    if (input) input.focus({ preventScroll: true });
    return true;
  }
};
