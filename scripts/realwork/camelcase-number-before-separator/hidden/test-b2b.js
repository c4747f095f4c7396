import test from 'ava';
import camelCase from './index.js';

test('a number before a separator does not capitalize what follows it', t => {
	t.is(camelCase('b2b_registration_request'), 'b2bRegistrationRequest');
	t.is(camelCase('b2b-registration-request'), 'b2bRegistrationRequest');
	t.is(camelCase('b2b_registration_b2b_request'), 'b2bRegistrationB2bRequest');
});

test('a number before a separator with pascalCase option', t => {
	t.is(camelCase('b2b_registration_request', {pascalCase: true}), 'B2bRegistrationRequest');
});
