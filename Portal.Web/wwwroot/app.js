// Small browser helpers for Portal pages.
window.portal = {
  copyText: async (text) => { await navigator.clipboard.writeText(text); return true; }
};
