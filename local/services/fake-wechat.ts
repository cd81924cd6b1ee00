/** The fake WeChat server (code2Session) for the mini-program login, on 127.0.0.1. */
export { start } from '../fake-wechat/service.ts';
