export * from '../../helpers/pki';
