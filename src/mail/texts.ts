// The text of every mail the store sends, in one place.
import type { Mail } from './mailer.js';

const SIGN = '\n\n-- \nSugar activities\n';

export function verifyEmail(to: string, name: string, link: string): Mail {
  return {
    to,
    subject: 'Confirm your e-mail address',
    text: `Hello ${name},\n\nPlease confirm your e-mail address for your Sugar activities account by opening this link:\n\n${link}\n\nThe link works for 7 days. If you did not create an account, ignore this mail.${SIGN}`,
  };
}

export function registerExisting(to: string, loginLink: string, resetLink: string): Mail {
  return {
    to,
    subject: 'Someone tried to register with your address',
    text: `Hello,\n\nSomeone (maybe you) tried to create a Sugar activities account with this e-mail address, but an account with it exists already.\n\nLog in: ${loginLink}\nForgot your password? ${resetLink}\n\nIf it was not you, you can ignore this mail.${SIGN}`,
  };
}

export function passwordReset(to: string, name: string, link: string): Mail {
  return {
    to,
    subject: 'Reset your password',
    text: `Hello ${name},\n\nSomeone (maybe you) asked to reset the password of your Sugar activities account. To choose a new password, open this link within an hour:\n\n${link}\n\nIf it was not you, ignore this mail: your password stays as it is.${SIGN}`,
  };
}

/**
 * After a password reset or change: what happened, and which API tokens were revoked (by name),
 * so the owner knows which programs need a new token, and can act if it was not them.
 */
export function passwordChanged(to: string, name: string, how: 'reset' | 'change', revoked: { name: string; prefix: string }[], signedOut: boolean): Mail {
  const what = how === 'reset' ? 'was reset with a link sent to this address' : 'was changed by someone logged in to it';
  const tokens = revoked.length
    ? `These API tokens were revoked; programs that used them need a new token (create one in your account settings):\n\n${revoked.map((t) => `  - "${t.name}" (${t.prefix}...)`).join('\n')}`
    : signedOut
      ? 'The account had no live API tokens, so none was revoked.'
      : 'Your API tokens were kept, as asked.';
  const sessions = signedOut
    ? how === 'reset'
      ? 'Every browser logged in to the account was logged out.'
      : 'Every other browser logged in to the account was logged out.'
    : 'Other browsers stay logged in, as asked.';
  return {
    to,
    subject: how === 'reset' ? 'Your password was reset' : 'Your password was changed',
    text: `Hello ${name},\n\nThe password of your Sugar activities account ${what}.\n\n${sessions}\n\n${tokens}\n\nIf this was not you, reset your password at once with "Forgot your password?" on the login page.${SIGN}`,
  };
}

export function confirmNewEmail(to: string, name: string, link: string): Mail {
  return {
    to,
    subject: 'Confirm your new e-mail address',
    text: `Hello ${name},\n\nTo use this address for your Sugar activities account, open this link within 24 hours:\n\n${link}${SIGN}`,
  };
}

export function emailChangeRequested(to: string, name: string, newEmail: string): Mail {
  return {
    to,
    subject: 'Your e-mail address is about to change',
    text: `Hello ${name},\n\nSomeone logged in to your Sugar activities account asked to change its e-mail address to ${newEmail}. It changes once the link sent there is opened.\n\nIf this was not you, change your password now.${SIGN}`,
  };
}

export function tokenLeaked(to: string, name: string, tokenName: string, prefix: string, file: string, bundleId: string | null): Mail {
  return {
    to,
    subject: 'One of your API tokens was revoked',
    text: `Hello ${name},\n\nYour API token "${tokenName}" (${prefix}...) was found inside an uploaded bundle${bundleId ? ` (${bundleId})` : ''}, in the file ${file}. Anyone who downloads the bundle could use it, so it has been revoked.\n\nCreate a new token in your account settings, and keep it out of your activity's source (use the ASLO_TOKEN environment variable).${SIGN}`,
  };
}

export interface DecisionMailInput {
  to: string;
  name: string;
  activityName: string;
  bundleId: string;
  version: string | null;
  action: string;
  fromStatus: string;
  toStatus: string;
  comment: string;
  reviewer: string;
  link: string;
  /** The versions an activity decision covered, and those still waiting for an editor. */
  versions?: string[];
  waiting?: string[];
}

const DECISION_WORDS: Record<string, string> = {
  nominate: 'was nominated for review',
  approve: 'was approved',
  return: 'was returned to the sandbox',
  escalate: 'was passed to an administrator for review',
  disable: 'was disabled',
  enable: 'was enabled again',
};

export function reviewDecision(i: DecisionMailInput): Mail {
  const what = i.version ? `Version ${i.version} of ${i.activityName}` : i.activityName;
  const words = DECISION_WORDS[i.action] ?? `changed (${i.action})`;
  return {
    to: i.to,
    subject: `${what} ${words}`,
    text: `Hello ${i.name},\n\n${what} (${i.bundleId}) ${words} by ${i.reviewer}.\nStatus: ${i.fromStatus} -> ${i.toStatus}\n${i.versions?.length ? `Versions reviewed: ${i.versions.join(', ')}\n` : ''}${i.waiting?.length ? `Still waiting for review: ${i.waiting.join(', ')}\n` : ''}\nComment:\n${i.comment}\n\nThe review history of your activity: ${i.link}${SIGN}`,
  };
}

export function authorInvited(to: string, name: string, activityName: string, role: string, by: string, link: string): Mail {
  return {
    to,
    subject: `You are now an author of ${activityName}`,
    text: `Hello ${name},\n\n${by} added you as ${role === 'owner' ? 'an owner' : 'a developer'} of ${activityName}. You can now publish its versions and edit its listing:\n\n${link}${SIGN}`,
  };
}
